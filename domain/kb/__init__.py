"""The knowledge base (知识库): policy articles the inbound robot answers from and agents
look up, each an audited, versioned aggregate; content rules in content.py."""
