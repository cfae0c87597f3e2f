"""Agent configuration: YAML validated in two phases (framework options, then each plugin's
own strict model), secrets held as SecretStr. Example configs live in config/examples/."""
