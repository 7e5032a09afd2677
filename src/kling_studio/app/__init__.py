"""`kling-studio app`: the studio alone as a web page, served by Voila from a packaged notebook
whose one cell shows the studio (no code cells on the page). The server side (_serve) never
imports the widget; the notebook's kernel builds the studio (_page) from the options the command
put in its environment."""
