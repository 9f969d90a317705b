variable "name" {
  type = string
}

resource "aws_instance" "server" {
  ami           = "ami-123"
  instance_type = "m5.4xlarge"
  tags = {
    Name = var.name
  }
}
