from .cli import main

if __name__ == "__main__":  # training processes import the main module again; nothing may run then
    raise SystemExit(main())
