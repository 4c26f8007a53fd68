"""Policy as code: the cdk-nag packs that gate every synth."""
