from backport.cli import main

main()
