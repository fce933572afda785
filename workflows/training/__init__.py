"""Training data from expert labels: reward, preference and KTO datasets (RLHF)."""
