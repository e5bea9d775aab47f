//! Attacks on the repository: an agent that breaks its worktree's link or moves its branch.
