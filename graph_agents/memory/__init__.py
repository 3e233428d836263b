"""Long-term agent memory in Chroma: `MemoryManager` over a `VectorMemoryStore`.

```python
from graph_agents.memory import MemoryManager, VectorMemoryStore

memory = MemoryManager(
    store=VectorMemoryStore(collection_name="agent_memory"),
    enable_reflection=True,
    max_memories=1000,
)
agent = Agent(name="Assistant", instructions="...", memory=memory)
```

See `graph_agents.memory.manager` (records, recall scoring, scopes, eviction,
reflection) and `graph_agents.memory.store` (Chroma clients and embeddings).
"""

from .manager import Memory, MemoryKind, MemoryManager, MemoryScope, RetrievalWeights
from .store import VectorMemoryStore

__all__ = [
    "Memory",
    "MemoryKind",
    "MemoryManager",
    "MemoryScope",
    "RetrievalWeights",
    "VectorMemoryStore",
]
