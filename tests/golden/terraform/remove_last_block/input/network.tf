resource "aws_eip" "nat" {
  domain = "vpc"
}

// Elastic IP left over from the old bastion
resource "aws_eip" "unused" {
  domain = "vpc"
}
