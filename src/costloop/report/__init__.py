"""Reports: the HTML report, showback formats, team reports and chargeback files."""
