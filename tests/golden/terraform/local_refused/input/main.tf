locals {
  api_size = "m5.2xlarge"
}

resource "aws_instance" "api" {
  instance_type = local.api_size
}
