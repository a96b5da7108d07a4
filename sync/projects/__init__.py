"""Co-creation projects at run time: risk flags, the regular meeting and emergency paging."""
