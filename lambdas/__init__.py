"""AWS Lambda functions: thin handlers over typed functions in this repository's packages."""
