# The hosted dashboard's image (cdk deploy -c dashboard=true): Streamlit serving the installed dashboard package,
# which reaches the stack through its API (SHIFTWORK_API_URL, signed with the task role's credentials). Built from
# the repository root; a file of its own so that the runner image (../Dockerfile) and its build context stay as they are.
FROM public.ecr.aws/docker/library/python:3.12-slim
WORKDIR /opt/shiftwork
COPY pyproject.toml README.md ./
COPY src ./src
COPY dashboard ./dashboard
RUN pip install --no-cache-dir '.[dashboard]'
RUN useradd --create-home dashboard
USER dashboard
# away from /opt/shiftwork: `import dashboard` must find the installed package, not the copied sources
WORKDIR /home/dashboard
EXPOSE 8501
# the task definition gives the same command (infra/shiftwork_infra/dashboard.py COMMAND); this is for `docker run`
CMD ["sh", "-c", "exec python -m streamlit run \"$(python -c 'import importlib.util; print(importlib.util.find_spec(\"dashboard.app\").origin)')\" --server.port 8501 --server.headless true --server.address 0.0.0.0 --browser.gatherUsageStats false"]
