from channelkit.cli import main

raise SystemExit(main())
