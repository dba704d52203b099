"""The risk register, its reviews and corrective actions, alerts, and the regional programme targets."""
