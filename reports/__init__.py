"""`stance report`: who stands where, and how it moves, from the output of `stance score`.

Reading scored files (`scored`), dates and periods (`dates`), the numbers (`statistics`,
`tables`), charts (`charts`, the only module that imports matplotlib) and the HTML page
(`html`). The CLI layer is `reports.cli`.
"""
