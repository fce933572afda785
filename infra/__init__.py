"""Deployment: the CloudFormation template for AWS and the local stack that mirrors it."""
