resource "aws_ebs_volume" "data" {
  availability_zone = "us-east-1a"
  size              = 100
}

# Scratch space for the 2023 migration.
# TODO: remove after cut-over.
resource "aws_ebs_volume" "scratch" {
  availability_zone = "us-east-1a"
  size              = 500
  type              = "gp2" # cheap
}

resource "aws_volume_attachment" "data" {
  device_name = "/dev/sdf"
  volume_id   = aws_ebs_volume.data.id
  instance_id = aws_instance.db.id
}
