resource "aws_instance" "bastion" {
  ami           = "ami-123"
  instance_type = "t3.micro"
  user_data     = <<-EOF
    #!/bin/bash
    echo "}" > /tmp/x
    cat <<'INNER'
    resource "aws_instance" "app" {
      instance_type = "t3.xlarge"
    }
    INNER
  EOF
}

resource "aws_instance" "app" {
  ami           = "ami-123"
  instance_type = "t3.xlarge"
  user_data     = <<EOT
{"config": {"size": "large"}}
EOT
}
