"""runners: the pipeline library that runs a client's AWS account from Jenkins."""

__version__ = "0.1.0"
