resource "aws_instance" "api" {
  ami           = "ami-123"
  instance_type = var.api_instance_type
}
