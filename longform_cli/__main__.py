from longform_cli.main import main

main()
