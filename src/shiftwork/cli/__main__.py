from shiftwork.cli import main

main()
