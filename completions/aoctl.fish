complete --keep-order --exclusive --command aoctl --arguments "(COMPLETE=fish aoctl -- (commandline --current-process --tokenize --cut-at-cursor) (commandline --current-token))"
