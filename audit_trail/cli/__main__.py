from audit_trail.cli.app import main

main()
