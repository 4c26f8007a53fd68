"""Semantic validators of the configuration, one module per concern; each reports into the
`ErrorCollector` (config/errors.py) of the file being loaded and never stops at the first error.

`config/parse.py` turns tables into model objects and calls these on each as it is read (so the
errors come out in file order); `config/load.py` runs the whole-file checks of `accounts` last:

- `jurisdictions`: the key naming rule, distinct address blocks and domains
- `regions`: HOST-2 allow-lists, regions on them, DR region apart from the primary
- `sizing`, `offerings`: capacities and classes (HOST-1, HOST-4), classes RDS offers per region
- `retention`: backup and log retention, vault lock bounds, audit Object Lock mode (BAK-*, ACC-3, ACC-4)
- `standby`: the warm standby (DR-1)
- `egress`: the web tier's third-party APIs (ACC-1)
- `release`, `user_email`, `maintenance`: OPS-7, the user pool's sender, OPS-5
- `accounts`: separate accounts per environment (HOST-3), tooling accounts and their connections
"""
