resource "aws_instance" "db" {
  instance_type = "r5.large"
  volume_type   = "not-this-one"

  root_block_device {
    volume_size = 200
    volume_type = "gp2"
  }
}
