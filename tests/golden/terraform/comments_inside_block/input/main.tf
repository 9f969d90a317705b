# Web tier.
resource "aws_instance" "web" {
  ami = "ami-123" // pinned AMI
  # instance_type = "c5.9xlarge"
  /* previously:
     instance_type = "c5.18xlarge" } { */
  instance_type = "c5.4xlarge"
  # trailing comment
}
