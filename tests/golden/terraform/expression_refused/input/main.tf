resource "aws_instance" "api" {
  instance_type = "${var.family}.2xlarge"
}
