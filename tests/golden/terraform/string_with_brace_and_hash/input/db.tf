resource "aws_db_instance" "orders" {
  identifier     = "orders-#1"
  description    = "closing brace } and // not a comment"
  password       = "p\"a}ss#word"
  name_tag       = "${lookup(var.names, "}", "x")}-db"
  instance_class = "db.r5.2xlarge"
  engine         = "postgres"
}
