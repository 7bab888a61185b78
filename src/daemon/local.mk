# torkitd and its engines.
