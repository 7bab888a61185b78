# Manual pages (mdoc). Each area adds its pages to dist_man_MANS; make check
# lints all of them with mandoc when it is installed.
dist_check_SCRIPTS += man/lint-test
if HAVE_MANDOC
TESTS += man/lint-test
endif
AM_TESTS_ENVIRONMENT += TK_MANS='$(dist_man_MANS)'; export TK_MANS;
