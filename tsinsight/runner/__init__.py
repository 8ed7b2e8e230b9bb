"""The book's runner: the notebook runs of the book executed with papermill, then the Jupyter Book build.

- :mod:`~tsinsight.runner.plan`: which runs make the book (each notebook's own declaration), their order and
  what each waits for;
- :mod:`~tsinsight.runner.stamps`: what a page was computed from, and whether it is up to date;
- :mod:`~tsinsight.runner.parameters`: the notebooks' parameters, checked before any kernel starts;
- :mod:`~tsinsight.runner.execute`: papermill, what the runner writes into a page, and the progress report;
- :mod:`~tsinsight.runner.grid`: the same runs on a Dask cluster;
- :mod:`~tsinsight.runner.html`: the HTML build.

The command line is :mod:`tsinsight.book`.
"""
