"""One module per `evals` command; importing one registers it on `evals.cli_app.app`."""
