//! Attacks by agents on the machine: writes and reads outside the worktree, processes that outlive their run, the network.
