"""The requirement table as a spreadsheet: columns, reading sheets, import (dry run first) and export."""
