resource "aws_instance" "api" {
  instance_type = "m5.large"
}
