export default function Page() {
  return <h1>TODO endpoints/endpoint-page</h1>;
}
