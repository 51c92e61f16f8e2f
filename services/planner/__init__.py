"""The planner: stores each job's plan before writing starts and conducts the writing of its chunks."""
