"""Column-level lineage, change analysis and impact radius (Recce's ``/api/cll``), computed
from the artifacts alone: a pure, synchronous core with no server imports."""
