"""`backport pick`: the backports the verdicts say are ready, done with git.

plan.py   what to pick, in which order, from a CheckResult;
style.py  the line's reference style and the message each pick gets;
state.py  the run's state in the git directory, so any interruption resumes;
run.py    the private worktree, the picks, continue/skip/abort.
"""
