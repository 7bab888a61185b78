# bats tests of torkitd.
