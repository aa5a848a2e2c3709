environment = "development"
servers = {
  web-1 = "small"
}
