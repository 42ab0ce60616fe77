# Global logging options (sourced by tests/cli.sh).
check "--log.verbosity accepted" 0 "$canon" --log.verbosity 5 --log.format=json version
check "--log.verbosity=0 accepted" 0 "$canon" --log.verbosity=0 version
check "--log.verbosity out of range" 2 "$canon" --log.verbosity 9 version
check "--log.format unknown" 2 "$canon" --log.format yaml version
check "unknown --log option" 2 "$canon" --log.bogus 1 version
check "--log.verbosity without value" 2 "$canon" --log.verbosity
