"""Expert email: composed here, sent over SMTP locally (SNS email subscriptions do it in AWS)."""
