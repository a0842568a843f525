"""Maintainers' tools: the commit-message check behind the hooks and `lint`,
hook installation, `tag`, and notes written after the fact.

Kept free of imports: the commit-msg hook loads modules from here on every commit."""
