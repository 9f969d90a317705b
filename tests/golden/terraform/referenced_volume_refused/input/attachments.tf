# aws_ebs_volume.data is attached below (this comment is not a reference)
resource "aws_volume_attachment" "data" {
  device_name = "/dev/sdf"
  volume_id   = aws_ebs_volume.data.id
  instance_id = aws_instance.db.id
}

output "data_volume" {
  value = "${aws_ebs_volume.data.arn}"
}
