output "api_id" {
  description = "The API's ID."
  value       = aws_apigatewayv2_api.this.id
}

output "endpoint" {
  description = "The API's default endpoint URL."
  value       = aws_apigatewayv2_api.this.api_endpoint
}

output "execution_arn" {
  description = "Prefix of the API's execution ARNs (for resource policies)."
  value       = aws_apigatewayv2_api.this.execution_arn
}
