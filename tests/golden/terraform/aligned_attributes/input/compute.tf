resource "aws_instance" "checkout_api" {
  ami                    = "ami-0c55b159cbfafe1f0"
  instance_type          = "m5.2xlarge" # sized for Black Friday 2024
  subnet_id              = aws_subnet.private_a.id
  vpc_security_group_ids = [aws_security_group.api.id]
  monitoring             = true

  tags = {
    Name = "checkout-api"
    Team = "checkout"
    Env  = "prod"
  }
}

resource "aws_instance" "checkout_worker" {
  ami           = "ami-0c55b159cbfafe1f0"
  instance_type = "m5.2xlarge"
}
