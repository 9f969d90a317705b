variable "region" {
  default = "us-east-1"
}

variable "api_instance_type" {
  type        = string
  description = "Instance type of the API servers"
  default     = "m5.2xlarge"
}
