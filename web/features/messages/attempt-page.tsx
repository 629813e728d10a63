export default function Page() {
  return <h1>TODO messages/attempt-page</h1>;
}
