"""Mock-interview coach for machine-learning model inference: knowledge base, graders, interview engine."""
