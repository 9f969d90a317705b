resource "aws_instance" "worker" {
  count         = 3
  ami           = "ami-123"
  instance_type = "r5.large"
  tags = {
    Name = "worker-${count.index}"
  }
}
