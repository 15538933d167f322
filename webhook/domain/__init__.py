"""The runs themselves, without Flask or SQLite: submit/cancel, the vars policy, secret
vars, targets, lock keys, failure reasons, the environment a run gets."""
